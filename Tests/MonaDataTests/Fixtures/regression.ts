@problemName TinyReg
@univariate true
@equalLength true
@seriesLength 3
@targetLabel true
@data
1,2,3:0.5
3,2,1:-1.25
