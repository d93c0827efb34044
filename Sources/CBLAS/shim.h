// Debian's libopenblas-dev ships cblas.h (with openblas_set_num_threads) under the openblas-pthread include dir,
// which pkg-config `openblas` adds to the search path.
#include <cblas.h>
