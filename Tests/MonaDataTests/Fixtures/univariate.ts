# A tiny hand-written univariate problem with two classes.
@problemName TinyUni
@timeStamps false
@missing false
@univariate true
@equalLength true
@seriesLength 4
@classLabel true up down

@data
1,2,3,4:up
4,3,2,1:down
0.5,1.5,2.5,3.5:up
