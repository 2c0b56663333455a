using System.CommandLine;
using SafeHaven.Management;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.WhitelistModel.Cli;

namespace SafeHaven.Appliance;

/// <summary>Commands contributed by the other parts of the appliance.</summary>
internal static class ExtraCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return WhitelistCommand.Create();
        yield return UsersCommand.Create();
        yield return AuditCommand.Create();
        yield return SafeHaven.Airlock.Cli.AirlockCommand.Create();
        yield return AptCommand.Create();
        yield return SafeHaven.MirrorSync.Cli.SyncCommand.Create(
            new SafeHaven.MirrorSync.Cli.SyncCommandHost(ApplianceHost.LoadConfiguration, DataCommand.Actor),
            SafeHaven.MirrorSync.Cli.SyncGcCommand.Create());
    }
}

/// <summary>Options shared by the commands that work on the appliance's data beside (or without) a running server.</summary>
internal static class DataCommand
{
    public static Option<FileInfo?> ConfigOption() => new("--config")
    {
        Description = "Configuration file (JSON), as for 'serve'. Default: safehaven.json beside the executable. Environment variables override it.",
    };

    /// <summary>The operating-system account running the command: the actor recorded in the audit log.</summary>
    public static string Actor => "cli:" + (Names.IsUserName(Environment.UserName) ? Environment.UserName : "unknown");

    public static ManagementStores? Open(FileInfo? config)
    {
        if (config is not null && !config.Exists)
        {
            Console.Error.WriteLine($"safehaven: configuration file {config.FullName} does not exist.");
            return null;
        }
        var (_, options) = ApplianceHost.LoadConfiguration(config?.FullName);
        return ManagementStores.Open(options);
    }
}

/// <summary><c>safehaven users add|list|revoke</c>: people, roles and API keys for the embedded default.</summary>
internal static class UsersCommand
{
    public static Command Create()
    {
        var command = new Command("users", "Manage people, their roles and their API keys (stored as salted hashes; a key is shown once).");
        command.Subcommands.Add(Add());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Revoke());
        return command;
    }

    private static Command Add()
    {
        var config = DataCommand.ConfigOption();
        var name = new Argument<string>("name") { Description = "User name (letters, digits and . _ @ -)." };
        var role = new Option<string>("--role")
        {
            Description = "SystemManager, ProgrammeManager, CollegeReferee (appliance-wide), or a project role with --project: ProjectManager, Investigator, Referee, DatasetProviderRepresentative, Researcher.",
            Required = true,
        };
        var project = new Option<string?>("--project") { Description = "The project a project role is held in (must exist)." };
        var newKey = new Option<bool>("--new-key") { Description = "Issue a further API key for a user who already has one." };
        var command = new Command("add", "Create a user (or give an existing one a role) and print a new API key once.");
        command.Arguments.Add(name);
        command.Options.Add(role);
        command.Options.Add(project);
        command.Options.Add(newKey);
        command.Options.Add(config);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var user = parseResult.GetValue(name)!;
            var roleText = parseResult.GetValue(role);
            var projectName = parseResult.GetValue(project);
            if (!Names.IsUserName(user))
            {
                await Console.Error.WriteLineAsync($"safehaven users add: '{user}' is not a user name ({Names.UserRule}).").ConfigureAwait(false);
                return 2;
            }
            if (!Roles.TryParse(roleText, out var parsed))
            {
                await Console.Error.WriteLineAsync($"safehaven users add: '{roleText}' is not a role ({string.Join(", ", Roles.All)}).").ConfigureAwait(false);
                return 2;
            }
            if (parsed.IsGlobal() != (projectName is null))
            {
                await Console.Error.WriteLineAsync(parsed.IsGlobal()
                    ? $"safehaven users add: {parsed} is appliance-wide; leave out --project."
                    : $"safehaven users add: {parsed} is held in a project; name it with --project.").ConfigureAwait(false);
                return 2;
            }
            if (projectName is not null && !Names.IsProjectName(projectName))
            {
                await Console.Error.WriteLineAsync($"safehaven users add: '{projectName}' is not a project name ({Names.ProjectRule}).").ConfigureAwait(false);
                return 2;
            }
            var stores = DataCommand.Open(parseResult.GetValue(config));
            if (stores is null)
            {
                return 2;
            }
            if (projectName is not null && await stores.Projects.GetProjectAsync(projectName, cancellationToken).ConfigureAwait(false) is null)
            {
                await Console.Error.WriteLineAsync($"safehaven users add: there is no project {projectName} (a Programme Manager creates it with POST /api/projects).").ConfigureAwait(false);
                return 2;
            }
            var actor = DataCommand.Actor;
            var existing = await stores.Users.GetUserAsync(user, cancellationToken).ConfigureAwait(false);
            if (existing is { Disabled: true })
            {
                await Console.Error.WriteLineAsync($"safehaven users add: {user} was revoked on {existing.DisabledAt:u}; choose another name.").ConfigureAwait(false);
                return 2;
            }
            var created = await stores.Users.AddUserAsync(user, AuditRecord.Of(actor, "user.created", user), cancellationToken).ConfigureAwait(false);
            var assigned = await stores.Users.AssignRoleAsync(user, parsed, projectName,
                AuditRecord.Of(actor, projectName is null ? "user.role.added" : "project.member.added", user, projectName, ("role", parsed.ToString())), cancellationToken).ConfigureAwait(false);
            Console.WriteLine(created ? $"Created user {user}." : $"User {user} exists.");
            Console.WriteLine(assigned ? $"{user} is now {parsed}{(projectName is null ? "" : $" in {projectName}")}." : $"{user} already was {parsed}{(projectName is null ? "" : $" in {projectName}")}.");
            if (created || parseResult.GetValue(newKey))
            {
                var (keyId, key) = await stores.ApiKeys.CreateAsync(user, actor, cancellationToken).ConfigureAwait(false);
                Console.WriteLine($"API key {keyId} (shown once; only its salted hash is stored):");
                Console.WriteLine(key);
            }
            return 0;
        });
        return command;
    }

    private static Command List()
    {
        var config = DataCommand.ConfigOption();
        var command = new Command("list", "List users, their roles and their API keys (ids only).");
        command.Options.Add(config);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var stores = DataCommand.Open(parseResult.GetValue(config));
            if (stores is null)
            {
                return 2;
            }
            foreach (var user in await stores.Users.ListUsersAsync(cancellationToken).ConfigureAwait(false))
            {
                var roles = await stores.Users.GetRolesAsync(user.Name, cancellationToken).ConfigureAwait(false);
                var keys = await stores.Users.ListApiKeysAsync(user.Name, cancellationToken).ConfigureAwait(false);
                Console.WriteLine($"{user.Name}{(user.Disabled ? " (revoked)" : "")}  created {user.CreatedAt:u} by {user.CreatedBy}");
                Console.WriteLine($"  roles: {(roles.Count == 0 ? "none" : string.Join(", ", roles.Select(r => r.Project is null ? r.Role.ToString() : $"{r.Role} in {r.Project}")))}");
                foreach (var key in keys)
                {
                    Console.WriteLine($"  key {key.KeyId}  created {key.CreatedAt:u}{(key.RevokedAt is { } at ? $"  revoked {at:u}" : "")}");
                }
            }
            return 0;
        });
        return command;
    }

    private static Command Revoke()
    {
        var config = DataCommand.ConfigOption();
        var name = new Argument<string>("name") { Description = "The user to revoke." };
        var key = new Option<string?>("--key") { Description = "Revoke only this API key id (else every key, and the user is disabled, for identity-provider tokens too)." };
        var command = new Command("revoke", "Revoke a user's API keys (one, or all and the user).");
        command.Arguments.Add(name);
        command.Options.Add(key);
        command.Options.Add(config);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var user = parseResult.GetValue(name)!;
            var keyId = parseResult.GetValue(key);
            if (!Names.IsUserName(user) || (keyId is not null && !(keyId.Length == 12 && keyId.All(char.IsAsciiHexDigitLower))))
            {
                await Console.Error.WriteLineAsync("safehaven users revoke: not a user name or key id.").ConfigureAwait(false);
                return 2;
            }
            var stores = DataCommand.Open(parseResult.GetValue(config));
            if (stores is null)
            {
                return 2;
            }
            if (await stores.Users.GetUserAsync(user, cancellationToken).ConfigureAwait(false) is null)
            {
                await Console.Error.WriteLineAsync($"safehaven users revoke: there is no user {user}.").ConfigureAwait(false);
                return 1;
            }
            var revoked = await stores.Users.RevokeAsync(user, keyId,
                AuditRecord.Of(DataCommand.Actor, keyId is null ? "user.revoked" : "user.api-key.revoked", user, null, ("keyId", keyId)), cancellationToken).ConfigureAwait(false);
            Console.WriteLine(keyId is null ? $"Revoked {user} and {revoked} API key(s)." : revoked == 1 ? $"Revoked key {keyId} of {user}." : $"{user} has no active key {keyId}.");
            return 0;
        });
        return command;
    }
}

/// <summary><c>safehaven audit verify</c>: checks the hash chain; exits non-zero naming the first broken entry.</summary>
internal static class AuditCommand
{
    public static Command Create()
    {
        var command = new Command("audit", "The append-only, hash-chained audit log.");
        var config = DataCommand.ConfigOption();
        var verify = new Command("verify", "Check every entry against its hash and its predecessor; exit 0 when intact, 1 naming the first broken entry.");
        verify.Options.Add(config);
        verify.SetAction(async (parseResult, cancellationToken) =>
        {
            var stores = DataCommand.Open(parseResult.GetValue(config));
            if (stores is null)
            {
                return 2;
            }
            var result = await stores.Audit.VerifyAsync(cancellationToken).ConfigureAwait(false);
            if (result.Intact)
            {
                Console.WriteLine($"Audit log intact: {result.Entries} entries{(result.HeadHash is null ? "" : $", head {result.HeadHash}")}.");
                return 0;
            }
            await Console.Error.WriteLineAsync($"Audit log BROKEN at entry {result.FirstBrokenSequence}: {result.Problem}").ConfigureAwait(false);
            return 1;
        });
        command.Subcommands.Add(verify);
        return command;
    }
}

/// <summary>
/// <c>safehaven apt key</c>: prints the public half of the appliance's apt archive key (the one <c>serve</c> signs every
/// published <c>Release</c> with, and <c>safehaven sync export</c> every bundle; created in the data directory if
/// <c>serve</c> has not run yet), for clients' <c>Signed-By</c> and for importers' <c>SafeHaven:Sync:TrustedKeys</c>. The same key is served at <c>/apt/safehaven-archive-key.asc</c>.
/// </summary>
internal static class AptCommand
{
    public static Command Create()
    {
        var command = new Command("apt", "The apt mirror.");
        var config = DataCommand.ConfigOption();
        var key = new Command("key", "Print the appliance's apt archive public key (armored OpenPGP), for clients' Signed-By.");
        key.Options.Add(config);
        key.SetAction(parseResult =>
        {
            var file = parseResult.GetValue(config);
            if (file is not null && !file.Exists)
            {
                Console.Error.WriteLine($"safehaven: configuration file {file.FullName} does not exist.");
                return 2;
            }
            var (_, options) = ApplianceHost.LoadConfiguration(file?.FullName);
            var archiveKey = new SafeHaven.Gateway.Ecosystems.Apt.Publishing.AptArchiveKey(
                SafeHaven.Gateway.Ecosystems.Apt.Publishing.AptArchiveKey.PathIn(options.ResolveDataPath()), TimeProvider.System);
            Console.Error.WriteLine($"# fingerprint {archiveKey.Fingerprint}");
            Console.Write(archiveKey.PublicKeyArmored());
            return 0;
        });
        command.Subcommands.Add(key);
        return command;
    }
}
