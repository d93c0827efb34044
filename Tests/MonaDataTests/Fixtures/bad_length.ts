@problemName Bad
@univariate true
@equalLength true
@seriesLength 3
@classLabel true 1 2
@data
1,2,3:1
1,2:2
