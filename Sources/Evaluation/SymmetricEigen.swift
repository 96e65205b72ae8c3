import CBLAS

/// Eigen-decomposition of a real symmetric matrix through LAPACK `dsyevd` (divide and conquer, float64)
/// from OpenBLAS.
public enum SymmetricEigen {
    /// Eigenvalues (ascending) and eigenvectors of a symmetric `n × n` matrix given row-major (only the
    /// upper triangle in row-major terms is read).
    /// - Returns: `values[k]` ascending and `vectors` row-major `n × n` where **row k** is the unit
    ///   eigenvector of `values[k]`.
    /// - Throws: `EvaluationError.eigensolverFailed` when LAPACK reports `info ≠ 0`.
    public static func decompose(_ matrix: [Double], n: Int) throws -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == n * n, "SymmetricEigen: \(matrix.count) entries for \(n)×\(n)")
        if n == 0 { return ([], []) }
        // Row-major symmetric A equals its column-major transpose, so LAPACK sees the same matrix; the
        // column-major eigenvector columns it writes are, read row-major, our rows.
        var a = matrix
        var w = [Double](repeating: 0, count: n)
        var nn = Int32(n), lda = Int32(n), info: Int32 = 0
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workQuery = 0.0
        var iworkQuery: Int32 = 0
        let jobz: CChar = 86 /* "V" */, uplo: CChar = 76 /* "L" */
        var jz = jobz, up = uplo
        dsyevd_(&jz, &up, &nn, &a, &lda, &w, &workQuery, &lwork, &iworkQuery, &liwork, &info, 1, 1)
        if info != 0 { throw EvaluationError.eigensolverFailed(info: Int(info)) }
        lwork = Int32(workQuery.rounded(.up))
        liwork = iworkQuery
        var work = [Double](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_(&jz, &up, &nn, &a, &lda, &w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
        if info != 0 { throw EvaluationError.eigensolverFailed(info: Int(info)) }
        return (w, a)
    }
}
