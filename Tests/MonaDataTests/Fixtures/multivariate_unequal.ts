#Two dimensions, unequal lengths, one missing value; CRLF line endings are tested elsewhere.
@problemname TinyMulti
@timestamps false
@missing true
@univariate false
@dimensions 2
@equallength false
@classLabel true a b c
@data
1,2,3:10,20,30:a
1,?,3,5:7,8:c
4:5,6:b
