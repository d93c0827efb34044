@problemName Bad
@classLabel true 1 2
@data
1,2,3:1
1,x2,3:2
