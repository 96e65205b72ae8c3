#include <oneapi/dnnl/dnnl.h>

/// `DNNL_MEMORY_ALLOCATE` is a cast macro that Swift cannot import.
static inline void *cdnnl_memory_allocate(void) { return DNNL_MEMORY_ALLOCATE; }

/// OpenMP (libgomp) thread control; `omp.h` lives in GCC's private include folder.
int omp_get_max_threads(void);
void omp_set_num_threads(int);
