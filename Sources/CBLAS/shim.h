#include <cblas.h>
#include <stddef.h>

/* LAPACK symmetric eigensolvers (divide and conquer), exported by libopenblas (which bundles reference LAPACK
   compiled with gfortran; hence the trailing hidden string-length arguments). Debian ships no lapacke.h in the
   OpenBLAS include folder, so the Fortran prototypes are declared here. */
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);
void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w,
             float *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);
