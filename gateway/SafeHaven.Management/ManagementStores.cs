using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Policy;
using SafeHaven.Management.Projects;
using SafeHaven.Management.Storage;

namespace SafeHaven.Management;

/// <summary>
/// The management stores over a configuration's database (SQLite or PostgreSQL), for commands run beside the server
/// (users, audit) and for tests. A policy change made here reaches running servers through the policy generation.
/// </summary>
public sealed class ManagementStores : IAsyncDisposable
{
    private readonly SafeHavenDatabase? _owned;

    private ManagementStores(ManagementDatabase database, SafeHavenDatabase? owned)
    {
        _owned = owned;
        Users = new DatabaseUserStore(database);
        Projects = new DatabaseProjectStore(database);
        Audit = new DatabaseAuditLog(database);
        Policy = new DatabasePolicyStore(database);
        ApiKeys = new ApiKeys(Users);
    }

    public IUserStore Users { get; }
    public IProjectStore Projects { get; }
    public IAuditLog Audit { get; }
    public IPolicyStore Policy { get; }
    public ApiKeys ApiKeys { get; }

    /// <summary>The stores in the database <c>SafeHaven:Database</c> names, its schema brought up to date.</summary>
    public static ManagementStores Open(SafeHavenOptions options, TimeProvider? time = null)
    {
        var database = SafeHavenDatabase.Create(options);
        try
        {
            return new ManagementStores(ManagementDatabase.OpenAsync(database, time ?? TimeProvider.System, CancellationToken.None).GetAwaiter().GetResult(), database);
        }
        catch
        {
            database.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>The stores in <paramref name="database"/> (not disposed with them), its schema brought up to date.</summary>
    public static async Task<ManagementStores> OpenAsync(SafeHavenDatabase database, TimeProvider? time, CancellationToken cancellationToken) =>
        new(await ManagementDatabase.OpenAsync(database, time ?? TimeProvider.System, cancellationToken).ConfigureAwait(false), null);

    public ValueTask DisposeAsync() => _owned?.DisposeAsync() ?? ValueTask.CompletedTask;
}
