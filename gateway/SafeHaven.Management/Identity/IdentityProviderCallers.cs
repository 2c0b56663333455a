using System.Text.Json;
using Microsoft.Extensions.Options;
using SafeHaven.Management.Audit;

namespace SafeHaven.Management.Identity;

/// <summary>
/// The one mapping from a person's credentials to a <see cref="Caller"/>, shared by the API's bearer tokens and the web
/// application's sign-in: an identity provider's claims (<see cref="JwtOptions.NameClaim"/>,
/// <see cref="JwtOptions.RolesClaim"/> through <see cref="JwtOptions.RoleMap"/>, <see cref="JwtOptions.LinkedUsers"/>)
/// and the roles the management store holds for the same user name. Kept in one place so a browser session and an API
/// call of the same person can never hold different roles.
/// </summary>
public sealed class IdentityProviderCallers(IUserStore users, IOptions<AuthOptions> auth)
{
    /// <summary>
    /// The user name an identity provider's claims name, the role values they carry (after the role map), or why
    /// they are refused. Records a person first seen.
    /// </summary>
    public async Task<(string? Name, IReadOnlyList<string> RoleValues, string? Failure)> IdentifyAsync(JsonElement claims, string issuer, CancellationToken cancellationToken)
    {
        var jwtOptions = auth.Value.Jwt;
        var name = StringClaim(claims, jwtOptions.NameClaim) ?? StringClaim(claims, "sub");
        if (!Names.IsUserName(name))
        {
            return (null, [], $"token names no usable user ({jwtOptions.NameClaim} or sub: {Names.UserRule})");
        }
        var known = await users.GetUserAsync(name!, cancellationToken).ConfigureAwait(false);
        if (known is not null && !jwtOptions.LinkedUsers.Contains(name!, StringComparer.Ordinal)
            && (await users.ListApiKeysAsync(name, cancellationToken).ConfigureAwait(false)).Count > 0)
        {
            // Identity-provider users and API-key users are separate identities unless linked (SafeHaven:Auth:Jwt:LinkedUsers).
            return (null, [], $"the token names '{name}', an API-key user of this appliance not linked to the identity provider (SafeHaven:Auth:Jwt:LinkedUsers)");
        }
        if (known is null)
        {
            await users.EnsureUserAsync(name!, AuditRecord.Of(name!, "user.first-seen", name!, null, ("issuer", issuer)), cancellationToken).ConfigureAwait(false);
        }
        var values = ArrayClaim(claims, jwtOptions.RolesClaim)
            .Select(raw => jwtOptions.RoleMap.TryGetValue(raw, out var mapped) ? mapped : raw)
            .ToList();
        return (name, values, null);
    }

    /// <summary>
    /// The caller for a user name: the roles the identity provider gave (role values as <see cref="IdentifyAsync"/>
    /// returns them; unknown values are ignored) together with the roles the store holds; null with the reason when the
    /// user has been revoked.
    /// </summary>
    public async Task<(Caller? Caller, string? Failure)> ResolveAsync(string name, IEnumerable<string> roleValues, string authenticatedBy, CancellationToken cancellationToken)
    {
        if (await users.GetUserAsync(name, cancellationToken).ConfigureAwait(false) is { Disabled: true })
        {
            return (null, "this user has been revoked");
        }
        var global = new List<Role>();
        var project = new List<(string, Role)>();
        foreach (var value in roleValues)
        {
            if (Roles.TryParse(value, out var role) && role.IsGlobal())
            {
                global.Add(role);
            }
            else if (Caller.ParseProjectRole(value) is { } projectRole)
            {
                project.Add(projectRole);
            }
        }
        foreach (var assignment in await users.GetRolesAsync(name, cancellationToken).ConfigureAwait(false))
        {
            if (assignment.Project is null)
            {
                global.Add(assignment.Role);
            }
            else
            {
                project.Add((assignment.Project, assignment.Role));
            }
        }
        return (new Caller(name, global, project, authenticatedBy), null);
    }

    private static string? StringClaim(JsonElement claims, string name) =>
        claims.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static IEnumerable<string> ArrayClaim(JsonElement claims, string name)
    {
        if (!claims.TryGetProperty(name, out var v))
        {
            return [];
        }
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString()!.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            JsonValueKind.Array => v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!),
            _ => [],
        };
    }
}
