@problemName Truncated
@univariate true
@classLabel true 1 2
