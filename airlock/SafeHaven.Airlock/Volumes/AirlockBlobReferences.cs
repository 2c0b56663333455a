using Dapper;
using SafeHaven.Core.Blobs;

namespace SafeHaven.Airlock.Volumes;

/// <summary>
/// The airlock's answer to the snapshot garbage collector: a blob is referenced while any volume file, any upload
/// (whatever its state: an aborted one may still be committed by a retry) or any received chunk names its SHA-256.
/// </summary>
public sealed class AirlockBlobReferences(AirlockDatabase database) : IBlobReferences
{
    private const int Batch = 500;

    public string Name => "airlock volumes and uploads";

    /// <summary>The airlock database of a configuration (<c>DATA/airlock.db</c>), for commands run beside the server.</summary>
    public static AirlockBlobReferences ForOptions(Core.Configuration.SafeHavenOptions options) =>
        new(AirlockDatabase.ForFile(options.ResolveDataPath("airlock.db")));

    public async Task<IReadOnlySet<BlobDigest>> FindReferencedAsync(IReadOnlyCollection<BlobDigest> candidates, CancellationToken cancellationToken)
    {
        var referenced = new HashSet<BlobDigest>();
        await using var connection = database.Open();
        foreach (var chunk in candidates.Select(c => c.Hex).Chunk(Batch))
        {
            var rows = await connection.QueryAsync<string>(new CommandDefinition("""
                SELECT sha256 FROM airlock_volume_files WHERE sha256 IN @hex
                UNION SELECT sha256 FROM airlock_uploads WHERE sha256 IN @hex
                UNION SELECT sha256 FROM airlock_upload_chunks WHERE sha256 IN @hex
                """, new { hex = chunk }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            foreach (var row in rows)
            {
                referenced.Add(BlobDigest.Parse(row));
            }
        }
        return referenced;
    }
}
