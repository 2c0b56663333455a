namespace SafeHaven.Core.Storage;

/// <summary>
/// The appliance's storage is full: a file or a database write failed for want of space (or quota). Answered with
/// HTTP 507 Insufficient Storage and this message; nothing partial was kept.
/// </summary>
public sealed class StorageFullException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Recognises "the disk is full" whatever layer reports it (a file write, a SQLite write).</summary>
public static class StorageFull
{
    private const int Enospc = 28;
    private const int Edquot = 122;
    private const int SqliteFull = 13;

    /// <summary>
    /// SQLITE_IOERR_SHMSIZE: a WAL database could not grow its shared-memory index file. SQLite reports no errno with
    /// it; on the appliance's data volume it means the volume is full (even a read can need the index to grow).
    /// </summary>
    private const int SqliteIoErrShmSize = 4874;

    public static bool Is(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case StorageFullException:
                case IOException io when OperatingSystem.IsWindows()
                    ? (io.HResult & 0xFFFF) is 0x70 or 0x27 // ERROR_DISK_FULL, ERROR_HANDLE_DISK_FULL
                    : io.HResult is Enospc or Edquot || (io.HResult & 0xFFFF) is Enospc or Edquot:
                case Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: SqliteFull }:
                case Microsoft.Data.Sqlite.SqliteException { SqliteExtendedErrorCode: SqliteIoErrShmSize }:
                    return true;
            }
        }
        return false;
    }
}
