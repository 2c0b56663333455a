using Dapper;
using SafeHaven.Airlock.Storage;
using SafeHaven.Core.Blobs;

namespace SafeHaven.Airlock.Volumes;

/// <summary>Volumes and their files in the airlock tables of the appliance's database.</summary>
public sealed class DatabaseVolumeStore(AirlockDatabase database, TimeProvider? time = null) : IVolumeStore
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<AirlockVolume> CreateAsync(string workPackage, string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workPackage);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var volume = new AirlockVolume(Guid.NewGuid().ToString("N"), workPackage, name, VolumeMode.External, _time.GetUtcNow());
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO airlock_volumes (id, work_package, name, mode, created_at) VALUES (@Id, @WorkPackage, @Name, @Mode, @CreatedAt)",
                new { volume.Id, volume.WorkPackage, volume.Name, Mode = volume.Mode.ToString(), CreatedAt = volume.CreatedAt.ToUnixTimeMilliseconds() },
                cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception e) when (database.IsConstraintViolation(e))
        {
            throw new AirlockConflictException($"Work package '{workPackage}' already has a volume named '{name}'.");
        }
        return volume;
    }

    public async Task<AirlockVolume?> GetAsync(string volumeId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<VolumeRow>(new CommandDefinition(
            "SELECT id AS Id, work_package AS WorkPackage, name AS Name, mode AS Mode, created_at AS CreatedAt FROM airlock_volumes WHERE id = @volumeId",
            new { volumeId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToVolume();
    }

    public async Task<IReadOnlyList<AirlockVolume>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<VolumeRow>(new CommandDefinition(
            "SELECT id AS Id, work_package AS WorkPackage, name AS Name, mode AS Mode, created_at AS CreatedAt FROM airlock_volumes ORDER BY created_at, id",
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => r.ToVolume()).ToList();
    }

    public async Task SetModeAsync(string volumeId, VolumeMode mode, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE airlock_volumes SET mode = @mode WHERE id = @volumeId", new { volumeId, mode = mode.ToString() },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (changed == 0)
        {
            throw new KeyNotFoundException($"No volume '{volumeId}'.");
        }
    }

    public async Task<VolumeManifest?> GetManifestAsync(string volumeId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var exists = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM airlock_volumes WHERE id = @volumeId", new { volumeId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (exists == 0)
        {
            return null;
        }
        var rows = await connection.QueryAsync<FileRow>(new CommandDefinition(
            "SELECT path AS Path, sha256 AS Sha256, size AS Size, added_at AS AddedAt FROM airlock_volume_files WHERE volume_id = @volumeId",
            new { volumeId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new VolumeManifest(volumeId, rows.Select(r => new VolumeFile(r.Path, BlobDigest.Parse(r.Sha256), r.Size,
            DateTimeOffset.FromUnixTimeMilliseconds(r.AddedAt))).ToList());
    }

    private sealed class VolumeRow
    {
        public string Id { get; set; } = "";
        public string WorkPackage { get; set; } = "";
        public string Name { get; set; } = "";
        public string Mode { get; set; } = "";
        public long CreatedAt { get; set; }

        public AirlockVolume ToVolume() =>
            new(Id, WorkPackage, Name, Enum.Parse<VolumeMode>(Mode), DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt));
    }

    private sealed class FileRow
    {
        public string Path { get; set; } = "";
        public string Sha256 { get; set; } = "";
        public long Size { get; set; }
        public long AddedAt { get; set; }
    }
}
