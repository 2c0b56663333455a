using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Web.Identity;

/// <summary>
/// The web application's tables (area <c>web</c>) in the appliance's database, shared by every replica: the sessions
/// (<see cref="DatabaseSessionStore"/>) and the data protection key ring (<see cref="DatabaseXmlRepository"/>).
/// </summary>
public static class WebSchema
{
    public const string Area = "web";

    private const string Version1 = """
        CREATE TABLE IF NOT EXISTS web_sessions (
            id         TEXT   NOT NULL PRIMARY KEY,
            ticket     {blob} NOT NULL,
            expires_at BIGINT NOT NULL,
            slid_at    BIGINT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS web_sessions_expires_at ON web_sessions(expires_at);
        CREATE TABLE IF NOT EXISTS web_data_protection_keys (
            name       TEXT   NOT NULL PRIMARY KEY,
            xml        TEXT   NOT NULL,
            created_at BIGINT NOT NULL
        );
        """;

    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "sessions and data protection keys", Version1.Replace("{blob}", SqlDialect.Sqlite.Blob, StringComparison.Ordinal),
            Version1.Replace("{blob}", SqlDialect.Postgres.Blob, StringComparison.Ordinal)),
    ];

    public static Task ApplyAsync(SafeHavenDatabase database, CancellationToken cancellationToken) =>
        SchemaMigrations.ApplyAsync(database, Area, Migrations, cancellationToken);
}
