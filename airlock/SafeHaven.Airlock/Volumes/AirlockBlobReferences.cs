using Dapper;
using SafeHaven.Airlock.Storage;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Airlock.Volumes;

/// <summary>
/// The airlock's answer to the snapshot garbage collector: a blob is referenced while any volume file, any upload
/// (whatever its state: an aborted one may still be committed by a retry) or any received chunk names its SHA-256.
/// </summary>
public sealed class AirlockBlobReferences(AirlockDatabase database) : IBlobReferences
{
    private const int Batch = 500;

    public string Name => "airlock volumes and uploads";

    /// <summary>The airlock tables of a configuration's database (<c>SafeHaven:Database</c>), for commands run beside the server.</summary>
    public static async Task<AirlockBlobReferences> ForOptionsAsync(Core.Configuration.SafeHavenOptions options, CancellationToken cancellationToken) =>
        new(await AirlockDatabase.OpenAsync(SafeHavenDatabase.Create(options), options.ResolveDataPath("airlock.db"), cancellationToken).ConfigureAwait(false));

    public async Task<IReadOnlySet<BlobDigest>> FindReferencedAsync(IReadOnlyCollection<BlobDigest> candidates, CancellationToken cancellationToken)
    {
        var referenced = new HashSet<BlobDigest>();
        await using var connection = await database.Database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var dialect = database.Dialect;
        foreach (var chunk in candidates.Select(c => c.Hex).Chunk(Batch))
        {
            var rows = await connection.QueryAsync<string>(new CommandDefinition($"""
                SELECT sha256 FROM airlock_volume_files WHERE {dialect.InList("sha256", "hex")}
                UNION SELECT sha256 FROM airlock_uploads WHERE {dialect.InList("sha256", "hex")}
                UNION SELECT sha256 FROM airlock_upload_chunks WHERE {dialect.InList("sha256", "hex")}
                """, new { hex = chunk }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            foreach (var row in rows)
            {
                referenced.Add(BlobDigest.Parse(row));
            }
        }
        return referenced;
    }
}
