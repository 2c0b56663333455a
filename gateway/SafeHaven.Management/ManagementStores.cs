using SafeHaven.Core.Configuration;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Policy;
using SafeHaven.Management.Projects;
using SafeHaven.Management.Storage;

namespace SafeHaven.Management;

/// <summary>The management stores over a configuration's database, for commands run beside the server (users, audit).</summary>
public sealed class ManagementStores
{
    private ManagementStores(SqliteManagementDatabase database)
    {
        Users = new SqliteUserStore(database);
        Projects = new SqliteProjectStore(database);
        Audit = new SqliteAuditLog(database);
        Policy = new SqlitePolicyStore(database);
        ApiKeys = new ApiKeys(Users);
    }

    public IUserStore Users { get; }
    public IProjectStore Projects { get; }
    public IAuditLog Audit { get; }
    public IPolicyStore Policy { get; }
    public ApiKeys ApiKeys { get; }

    public static ManagementStores Open(SafeHavenOptions options, TimeProvider? time = null) =>
        new(new SqliteManagementDatabase(SqliteManagementDatabase.ConnectionStringFor(options), time ?? TimeProvider.System));
}
