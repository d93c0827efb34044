#include "CMPIShim.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

// MPI's C types in Open MPI are pointers to its predefined objects; only their addresses matter here.
typedef void *Handle;
#define MONA_MPI_IN_PLACE ((void *)1)   // Open MPI's MPI_IN_PLACE (mpi.h: #define MPI_IN_PLACE ((void *) 1))

static struct {
    void *library;
    Handle world, floatType, doubleType, byteType, sum;
    int (*init)(int *, char ***);
    int (*initialized)(int *);
    int (*finalize)(void);
    int (*rank)(Handle, int *);
    int (*size)(Handle, int *);
    int (*allreduce)(const void *, void *, int, Handle, Handle, Handle);
    int (*bcast)(void *, int, Handle, int, Handle);
    int (*barrier)(Handle);
    int (*abort)(Handle, int);
    int (*errorString)(int, char *, int *);
} mpi;

static int resolve(void **slot, const char *name, char *error, size_t capacity) {
    *slot = dlsym(mpi.library, name);
    if (*slot == NULL) {
        snprintf(error, capacity, "the MPI library has no symbol %s (Open MPI 4 or 5 is needed)", name);
        return -1;
    }
    return 0;
}

int mona_mpi_load(const char *path, char *error, size_t capacity) {
    if (mpi.library != NULL) return 0;
    const char *candidates[] = {path, "libmpi.so.40", "libmpi.so"};
    for (size_t i = 0; i < 3 && mpi.library == NULL; i++) {
        if (candidates[i] == NULL) continue;
        // RTLD_GLOBAL: Open MPI's own plug-ins (dlopen()ed by it) resolve their symbols against libmpi.
        mpi.library = dlopen(candidates[i], RTLD_NOW | RTLD_GLOBAL);
        if (path != NULL) break;
    }
    if (mpi.library == NULL) {
        const char *why = dlerror();
        snprintf(error, capacity, "cannot load %s (%s)", path ? path : "libmpi.so.40", why ? why : "not found");
        return -1;
    }
    struct { void **slot; const char *name; } symbols[] = {
        {(void **)&mpi.world, "ompi_mpi_comm_world"}, {(void **)&mpi.floatType, "ompi_mpi_float"},
        {(void **)&mpi.doubleType, "ompi_mpi_double"}, {(void **)&mpi.byteType, "ompi_mpi_byte"},
        {(void **)&mpi.sum, "ompi_mpi_op_sum"}, {(void **)&mpi.init, "MPI_Init"},
        {(void **)&mpi.initialized, "MPI_Initialized"}, {(void **)&mpi.finalize, "MPI_Finalize"},
        {(void **)&mpi.rank, "MPI_Comm_rank"}, {(void **)&mpi.size, "MPI_Comm_size"},
        {(void **)&mpi.allreduce, "MPI_Allreduce"}, {(void **)&mpi.bcast, "MPI_Bcast"},
        {(void **)&mpi.barrier, "MPI_Barrier"}, {(void **)&mpi.abort, "MPI_Abort"},
        {(void **)&mpi.errorString, "MPI_Error_string"},
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        if (resolve(symbols[i].slot, symbols[i].name, error, capacity) != 0) {
            dlclose(mpi.library);
            memset(&mpi, 0, sizeof mpi);
            return -1;
        }
    }
    return 0;
}

int mona_mpi_init(void) {
    if (mpi.library == NULL) return -1;
    int done = 0;
    int rc = mpi.initialized(&done);
    if (rc != 0 || done) return rc;
    return mpi.init(NULL, NULL);
}

int mona_mpi_finalize(void) { return mpi.library ? mpi.finalize() : -1; }
int mona_mpi_rank(int *rank) { return mpi.library ? mpi.rank(mpi.world, rank) : -1; }
int mona_mpi_size(int *size) { return mpi.library ? mpi.size(mpi.world, size) : -1; }

static int allreduce(void *buffer, size_t count, size_t width, Handle type) {
    if (mpi.library == NULL) return -1;
    char *p = buffer;
    while (count > 0) {
        int n = count > (size_t)INT_MAX ? INT_MAX : (int)count;
        int rc = mpi.allreduce(MONA_MPI_IN_PLACE, p, n, type, mpi.sum, mpi.world);
        if (rc != 0) return rc;
        p += (size_t)n * width;
        count -= (size_t)n;
    }
    return 0;
}

int mona_mpi_allreduce_sum_float(float *buffer, size_t count) {
    return allreduce(buffer, count, sizeof(float), mpi.floatType);
}

int mona_mpi_allreduce_sum_double(double *buffer, size_t count) {
    return allreduce(buffer, count, sizeof(double), mpi.doubleType);
}

int mona_mpi_broadcast_bytes(void *buffer, size_t bytes, int root) {
    if (mpi.library == NULL) return -1;
    char *p = buffer;
    while (bytes > 0) {
        int n = bytes > (size_t)INT_MAX ? INT_MAX : (int)bytes;
        int rc = mpi.bcast(p, n, mpi.byteType, root, mpi.world);
        if (rc != 0) return rc;
        p += n;
        bytes -= (size_t)n;
    }
    return 0;
}

int mona_mpi_barrier(void) { return mpi.library ? mpi.barrier(mpi.world) : -1; }

void mona_mpi_abort(int code) {
    if (mpi.library != NULL) mpi.abort(mpi.world, code);
}

void mona_mpi_error_string(int code, char *text, size_t capacity) {
    if (capacity == 0) return;
    text[0] = 0;
    if (mpi.library == NULL) return;
    char local[1024];   // MPI_MAX_ERROR_STRING is 256 in Open MPI
    int length = 0;
    if (mpi.errorString(code, local, &length) == 0) snprintf(text, capacity, "%s", local);
}
