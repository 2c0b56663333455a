using System.Globalization;
using Dapper;
using SafeHaven.Core.Tiers;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Storage;

namespace SafeHaven.Management.Policy;

/// <summary>
/// The policy tables; also the <see cref="IPolicyOverlaySource"/> the tier policy provider reads. Every change advances
/// the policy generation in its transaction, so the other replicas (and a server beside a CLI change) rebuild their policy.
/// </summary>
internal sealed class DatabasePolicyStore(ManagementDatabase database) : IPolicyStore, IPolicyOverlaySource
{
    public static readonly IReadOnlyList<string> SettingNames = ["tier", "minimumAgeDays", "maximumLagDays", "modelThreshold"];

    public PolicySettings GetSettings()
    {
        using var connection = database.Open();
        return ReadSettings(connection);
    }

    private static PolicySettings ReadSettings(System.Data.Common.DbConnection connection)
    {
        var values = connection.Query<(string Key, string Value)>("SELECT key, value FROM mgmt_policy_settings")
            .ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);
        int? Int(string key) => values.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null;
        double? Double(string key) => values.TryGetValue(key, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;
        return new PolicySettings(Int("tier"), Int("minimumAgeDays"), Int("maximumLagDays"), Double("modelThreshold"));
    }

    public Task SetSettingsAsync(PolicySettings changes, IReadOnlyCollection<string> clear, AuditRecord audit, CancellationToken cancellationToken) =>
        database.ChangeAsync(async (connection, transaction) =>
        {
            var now = database.Time.GetUtcNow().ToUnixTimeMilliseconds();
            var set = new Dictionary<string, string?>
            {
                ["tier"] = changes.Tier?.ToString(CultureInfo.InvariantCulture),
                ["minimumAgeDays"] = changes.MinimumAgeDays?.ToString(CultureInfo.InvariantCulture),
                ["maximumLagDays"] = changes.MaximumLagDays?.ToString(CultureInfo.InvariantCulture),
                ["modelThreshold"] = changes.ModelThreshold?.ToString("R", CultureInfo.InvariantCulture),
            };
            foreach (var (key, value) in set.Where(s => s.Value is not null))
            {
                await connection.ExecuteAsync(new CommandDefinition("""
                    INSERT INTO mgmt_policy_settings (key, value, updated_at, updated_by) VALUES (@key, @value, @now, @by)
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by
                    """, new { key, value, now, by = audit.Actor }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            foreach (var key in clear)
            {
                await connection.ExecuteAsync(new CommandDefinition("DELETE FROM mgmt_policy_settings WHERE key = @key",
                    new { key }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            return (true, audit);
        }, policy: true, cancellationToken);

    public IReadOnlyList<AllowlistEntryRecord> ListAllowlistEntries(string? ecosystem)
    {
        using var connection = database.Open();
        return ReadAllowlistEntries(connection, ecosystem);
    }

    private static List<AllowlistEntryRecord> ReadAllowlistEntries(System.Data.Common.DbConnection connection, string? ecosystem)
    {
        return connection.Query<EntryRow>("""
            SELECT ecosystem AS Ecosystem, name AS Name, entry AS Entry, added_by AS AddedBy, reason AS Reason, added_at AS AddedAt, status AS Status,
                   decided_by AS DecidedBy, decision_reason AS DecisionReason, decided_at AS DecidedAt
            FROM mgmt_allowlist_entries WHERE @ecosystem IS NULL OR ecosystem = @ecosystem ORDER BY ecosystem, name
            """, new { ecosystem }).Select(r => r.ToRecord()).ToList();
    }

    public Task<bool> AddAllowlistEntryAsync(AllowlistEntryRecord entry, AuditRecord audit, CancellationToken cancellationToken) =>
        database.ChangeAsync(async (connection, transaction) =>
        {
            var added = await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO mgmt_allowlist_entries (ecosystem, name, entry, added_by, reason, added_at, status)
                VALUES (@Ecosystem, @Name, @Entry, @AddedBy, @Reason, @at, @status) ON CONFLICT (ecosystem, name) DO NOTHING
                """, new { entry.Ecosystem, entry.Name, entry.Entry, entry.AddedBy, entry.Reason, at = entry.AddedAt.ToUnixTimeMilliseconds(), status = entry.Status.ToString() },
                transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
            return (added, added ? audit : null);
        }, policy: true, cancellationToken);

    public Task<bool> DecideAllowlistEntryAsync(string ecosystem, string name, AllowlistEntryStatus decision, string decidedBy, string reason, AuditRecord audit, CancellationToken cancellationToken) =>
        database.ChangeAsync(async (connection, transaction) =>
        {
            var decided = await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE mgmt_allowlist_entries SET status = @status, decided_by = @decidedBy, decision_reason = @reason, decided_at = @now
                WHERE ecosystem = @ecosystem AND name = @name AND status = 'Pending'
                """, new { status = decision.ToString(), decidedBy, reason, now = database.Time.GetUtcNow().ToUnixTimeMilliseconds(), ecosystem, name },
                transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
            return (decided, decided ? audit : null);
        }, policy: true, cancellationToken);

    public Task<bool> RemoveAllowlistEntryAsync(string ecosystem, string name, AuditRecord audit, CancellationToken cancellationToken) =>
        database.ChangeAsync(async (connection, transaction) =>
        {
            var removed = await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM mgmt_allowlist_entries WHERE ecosystem = @ecosystem AND name = @name",
                new { ecosystem, name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
            return (removed, removed ? audit : null);
        }, policy: true, cancellationToken);

    /// <summary>What the tier policy provider lays over configuration: the settings, and approved entries only.</summary>
    public PolicyOverlay Load()
    {
        using var connection = database.Open();
        // The generation first: a change committed between these reads is then read with an older generation, and
        // rebuilt once more when the change signal sees the newer one (never the reverse, a change missed for good).
        var generation = PolicyGenerations.Read(connection);
        var settings = ReadSettings(connection);
        var entries = ReadAllowlistEntries(connection, null)
            .Where(e => e.Status == AllowlistEntryStatus.Approved)
            .GroupBy(e => e.Ecosystem, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(e => e.Entry).ToList(), StringComparer.OrdinalIgnoreCase);
        database.Generations.Built(generation);
        return new PolicyOverlay(settings.Tier, settings.MinimumAgeDays, settings.MaximumLagDays, settings.ModelThreshold, entries);
    }

    private sealed class EntryRow
    {
        public string Ecosystem { get; set; } = "";
        public string Name { get; set; } = "";
        public string Entry { get; set; } = "";
        public string AddedBy { get; set; } = "";
        public string Reason { get; set; } = "";
        public long AddedAt { get; set; }
        public string Status { get; set; } = "";
        public string? DecidedBy { get; set; }
        public string? DecisionReason { get; set; }
        public long? DecidedAt { get; set; }

        public AllowlistEntryRecord ToRecord() => new(Ecosystem, Name, Entry, AddedBy, Reason, DateTimeOffset.FromUnixTimeMilliseconds(AddedAt),
            Enum.TryParse<AllowlistEntryStatus>(Status, out var s) ? s : AllowlistEntryStatus.Pending, DecidedBy, DecisionReason,
            DecidedAt is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(DecidedAt.Value));
    }
}
