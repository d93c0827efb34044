@problemName Bad
@univariate true
@seriesLength abc
@classLabel true 1 2
@data
1,2,3:1
