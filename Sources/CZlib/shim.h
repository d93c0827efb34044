// zlib (Debian zlib1g-dev, found through pkg-config `zlib`). inflateInit2 and deflateInit2 are macros that
// Swift cannot call, so they are wrapped here for raw deflate streams (no zlib or gzip wrapper: window bits -15).
#include <zlib.h>

static inline int CZlib_inflateInitRaw(z_streamp strm) {
    return inflateInit2(strm, -MAX_WBITS);
}

static inline int CZlib_deflateInitRaw(z_streamp strm, int level) {
    return deflateInit2(strm, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
}
