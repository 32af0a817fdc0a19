// MPI for Swift. MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …) are macros that Swift
// cannot import, so they are returned by small inline functions here.
#ifndef ONSAGER_CMPI_SHIM_H
#define ONSAGER_CMPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm onsager_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm onsager_mpi_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Datatype onsager_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype onsager_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype onsager_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype onsager_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Op onsager_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op onsager_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op onsager_mpi_min(void) { return MPI_MIN; }
static inline MPI_Request onsager_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Errhandler onsager_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int onsager_mpi_success(void) { return MPI_SUCCESS; }
static inline int onsager_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int onsager_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int onsager_mpi_undefined(void) { return MPI_UNDEFINED; }
/// MPI_Test without a status object (MPI_STATUS_IGNORE is a macro too).
static inline int onsager_mpi_test(MPI_Request *request, int *flag) { return MPI_Test(request, flag, MPI_STATUS_IGNORE); }
/// Nonblocking all-reduce in place (MPI_IN_PLACE is a macro).
static inline int onsager_mpi_iallreduce_in_place(void *buffer, int count, MPI_Datatype type, MPI_Op op, MPI_Comm comm, MPI_Request *request) {
    return MPI_Iallreduce(MPI_IN_PLACE, buffer, count, type, op, comm, request);
}
#endif
