using SafeHaven.Management.Audit;

namespace SafeHaven.Management.Identity;

public sealed record UserRecord(string Name, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? DisabledAt)
{
    public bool Disabled => DisabledAt is not null;
}

/// <summary>A role held by a user: appliance-wide when <see cref="Project"/> is null.</summary>
public sealed record RoleAssignment(string User, Role Role, string? Project, DateTimeOffset AssignedAt, string AssignedBy);

public sealed record ApiKeyRecord(string KeyId, string User, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>What is stored of an API key: its id for lookup, a per-key salt and the salted hash, never the key.</summary>
public sealed record StoredApiKey(string KeyId, string User, byte[] Salt, byte[] Hash, bool Revoked, bool UserDisabled);

/// <summary>People, their roles and their API keys. Each change is written with its audit entry, atomically.</summary>
public interface IUserStore
{
    Task<UserRecord?> GetUserAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<UserRecord>> ListUsersAsync(CancellationToken cancellationToken);

    /// <summary>False when the user already exists.</summary>
    Task<bool> AddUserAsync(string name, AuditRecord audit, CancellationToken cancellationToken);

    /// <summary>Records a person first seen through the identity provider (no-op when known).</summary>
    Task EnsureUserAsync(string name, AuditRecord audit, CancellationToken cancellationToken);

    Task<IReadOnlyList<RoleAssignment>> GetRolesAsync(string user, CancellationToken cancellationToken);

    Task<IReadOnlyList<RoleAssignment>> ListProjectRolesAsync(string project, CancellationToken cancellationToken);

    /// <summary>False when the user already holds the role there.</summary>
    Task<bool> AssignRoleAsync(string user, Role role, string? project, AuditRecord audit, CancellationToken cancellationToken);

    /// <summary>False when the user did not hold the role there.</summary>
    Task<bool> RemoveRoleAsync(string user, Role role, string? project, AuditRecord audit, CancellationToken cancellationToken);

    Task AddApiKeyAsync(string user, string keyId, byte[] salt, byte[] hash, AuditRecord audit, CancellationToken cancellationToken);

    Task<StoredApiKey?> FindApiKeyAsync(string keyId, CancellationToken cancellationToken);

    Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(string? user, CancellationToken cancellationToken);

    /// <summary>Revokes one key, or (no key id) every key of the user and disables the user. Returns keys revoked.</summary>
    Task<int> RevokeAsync(string user, string? keyId, AuditRecord audit, CancellationToken cancellationToken);
}
