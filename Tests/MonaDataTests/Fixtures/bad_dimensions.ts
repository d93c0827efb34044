@problemName Bad
@univariate false
@dimensions 2
@classLabel true 1 2
@data
1,2,3:4,5,6:1
1,2,3:2
