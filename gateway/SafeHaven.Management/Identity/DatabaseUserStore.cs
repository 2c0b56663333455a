using Dapper;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Storage;

namespace SafeHaven.Management.Identity;

internal sealed class DatabaseUserStore(ManagementDatabase database) : IUserStore
{
    private long Now => database.Time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<UserRecord?> GetUserAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<UserRow>(new CommandDefinition(
            "SELECT name AS Name, created_at AS CreatedAt, created_by AS CreatedBy, disabled_at AS DisabledAt FROM mgmt_users WHERE name = @name",
            new { name }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToRecord();
    }

    public async Task<IReadOnlyList<UserRecord>> ListUsersAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<UserRow>(new CommandDefinition(
            "SELECT name AS Name, created_at AS CreatedAt, created_by AS CreatedBy, disabled_at AS DisabledAt FROM mgmt_users ORDER BY name",
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => r.ToRecord()).ToList();
    }

    public Task<bool> AddUserAsync(string name, AuditRecord audit, CancellationToken cancellationToken) =>
        database.ChangeAsync(async (connection, transaction) =>
        {
            var added = await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO mgmt_users (name, created_at, created_by) VALUES (@name, @now, @by) ON CONFLICT (name) DO NOTHING",
                new { name, now = Now, by = audit.Actor }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
            return (added, added ? audit : null);
        }, cancellationToken);

    public async Task EnsureUserAsync(string name, AuditRecord audit, CancellationToken cancellationToken)
    {
        if (await GetUserAsync(name, cancellationToken).ConfigureAwait(false) is null)
        {
            await AddUserAsync(name, audit, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<RoleAssignment>> GetRolesAsync(string user, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<RoleRow>(new CommandDefinition(
            "SELECT user_name AS UserName, role AS Role, project AS Project, assigned_at AS AssignedAt, assigned_by AS AssignedBy FROM mgmt_role_assignments WHERE user_name = @user ORDER BY project, role",
            new { user }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => r.ToRecord()).OfType<RoleAssignment>().ToList();
    }

    public async Task<IReadOnlyList<RoleAssignment>> ListProjectRolesAsync(string project, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<RoleRow>(new CommandDefinition(
            "SELECT user_name AS UserName, role AS Role, project AS Project, assigned_at AS AssignedAt, assigned_by AS AssignedBy FROM mgmt_role_assignments WHERE project = @project ORDER BY user_name, role",
            new { project }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => r.ToRecord()).OfType<RoleAssignment>().ToList();
    }

    public Task<bool> AssignRoleAsync(string user, Role role, string? project, AuditRecord audit, CancellationToken cancellationToken) =>
        database.ChangeAsync(async (connection, transaction) =>
        {
            var added = await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO mgmt_role_assignments (user_name, role, project, assigned_at, assigned_by) VALUES (@user, @role, @project, @now, @by)
                ON CONFLICT (user_name, role, project) DO NOTHING
                """,
                new { user, role = role.ToString(), project = project ?? "", now = Now, by = audit.Actor }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
            return (added, added ? audit : null);
        }, cancellationToken);

    public Task<bool> RemoveRoleAsync(string user, Role role, string? project, AuditRecord audit, CancellationToken cancellationToken) =>
        database.ChangeAsync(async (connection, transaction) =>
        {
            var removed = await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM mgmt_role_assignments WHERE user_name = @user AND role = @role AND project = @project",
                new { user, role = role.ToString(), project = project ?? "" }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
            return (removed, removed ? audit : null);
        }, cancellationToken);

    public Task AddApiKeyAsync(string user, string keyId, byte[] salt, byte[] hash, AuditRecord audit, CancellationToken cancellationToken) =>
        database.ChangeAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO mgmt_api_keys (key_id, user_name, salt, hash, created_at) VALUES (@keyId, @user, @salt, @hash, @now)",
                new { keyId, user, salt, hash, now = Now }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return (true, audit);
        }, cancellationToken);

    public async Task<StoredApiKey?> FindApiKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<KeyRow>(new CommandDefinition("""
            SELECT k.key_id AS KeyId, k.user_name AS UserName, k.salt AS Salt, k.hash AS Hash, k.revoked_at AS RevokedAt, u.disabled_at AS DisabledAt
            FROM mgmt_api_keys k JOIN mgmt_users u ON u.name = k.user_name WHERE k.key_id = @keyId
            """, new { keyId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row is null ? null : new StoredApiKey(row.KeyId, row.UserName, row.Salt, row.Hash, row.RevokedAt is not null, row.DisabledAt is not null);
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(string? user, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<KeyRow>(new CommandDefinition(
            "SELECT key_id AS KeyId, user_name AS UserName, created_at AS CreatedAt, revoked_at AS RevokedAt FROM mgmt_api_keys WHERE @user IS NULL OR user_name = @user ORDER BY user_name, created_at",
            new { user }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => new ApiKeyRecord(r.KeyId, r.UserName, DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAt),
            r.RevokedAt is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.RevokedAt.Value))).ToList();
    }

    public Task<int> RevokeAsync(string user, string? keyId, AuditRecord audit, CancellationToken cancellationToken) =>
        database.ChangeAsync(async (connection, transaction) =>
        {
            var now = Now;
            var revoked = await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE mgmt_api_keys SET revoked_at = @now WHERE user_name = @user AND revoked_at IS NULL AND (@keyId IS NULL OR key_id = @keyId)",
                new { now, user, keyId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            var disabled = 0;
            if (keyId is null)
            {
                disabled = await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE mgmt_users SET disabled_at = @now WHERE name = @user AND disabled_at IS NULL",
                    new { now, user }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            return (revoked, revoked + disabled > 0 ? audit : null);
        }, cancellationToken);

    private sealed class UserRow
    {
        public string Name { get; set; } = "";
        public long CreatedAt { get; set; }
        public string CreatedBy { get; set; } = "";
        public long? DisabledAt { get; set; }

        public UserRecord ToRecord() => new(Name, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt), CreatedBy,
            DisabledAt is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(DisabledAt.Value));
    }

    private sealed class RoleRow
    {
        public string UserName { get; set; } = "";
        public string Role { get; set; } = "";
        public string Project { get; set; } = "";
        public long AssignedAt { get; set; }
        public string AssignedBy { get; set; } = "";

        public RoleAssignment? ToRecord() => Roles.TryParse(Role, out var role)
            ? new RoleAssignment(UserName, role, Project.Length == 0 ? null : Project, DateTimeOffset.FromUnixTimeMilliseconds(AssignedAt), AssignedBy)
            : null;
    }

    private sealed class KeyRow
    {
        public string KeyId { get; set; } = "";
        public string UserName { get; set; } = "";
        public byte[] Salt { get; set; } = [];
        public byte[] Hash { get; set; } = [];
        public long CreatedAt { get; set; }
        public long? RevokedAt { get; set; }
        public long? DisabledAt { get; set; }
    }
}
