// Open MPI reached at run time: the library is dlopen()ed only when a process was started by mpirun, so building
// and running without Open MPI installed needs nothing from it (no headers, no link-time dependency). MPI's
// handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …) are C macros over Open MPI's exported objects; the shim looks
// those objects up by name and exposes plain functions that Swift can call. Every function returns 0 on success,
// or an MPI error code / -1 when the library is not loaded.
#ifndef CMPISHIM_H
#define CMPISHIM_H

#include <stddef.h>

/// Loads the MPI library (`path`, or the usual Open MPI sonames when NULL) and resolves every symbol used below.
/// On failure writes a one-line reason into `error` (at most `capacity` bytes) and returns -1.
int mona_mpi_load(const char *path, char *error, size_t capacity);

/// MPI_Init (threads: the caller makes every MPI call from one thread).
int mona_mpi_init(void);
int mona_mpi_finalize(void);
int mona_mpi_rank(int *rank);
int mona_mpi_size(int *size);

/// In-place sum over all ranks of MPI_COMM_WORLD (chunked so that counts beyond INT_MAX work).
int mona_mpi_allreduce_sum_float(float *buffer, size_t count);
int mona_mpi_allreduce_sum_double(double *buffer, size_t count);

/// Broadcast of `bytes` bytes from `root` over MPI_COMM_WORLD.
int mona_mpi_broadcast_bytes(void *buffer, size_t bytes, int root);

int mona_mpi_barrier(void);

/// MPI_Abort on MPI_COMM_WORLD: ends every rank of the job (mpirun reports which one aborted).
void mona_mpi_abort(int code);

/// The text of an MPI error code (empty when the library is not loaded).
void mona_mpi_error_string(int code, char *text, size_t capacity);

#endif
