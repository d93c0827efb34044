@problemName Bad
@univariate true
@classLabel true 1 2
@data
1,2,3:1
1,2,3:7
