namespace SafeHaven.Gateway.Snapshots;

/// <summary>
/// Streams a document while replacing every occurrence of a marker (the rebase origin of a snapshot) by the
/// request's base URL, with bounded memory: a marker split across two reads is still found.
/// </summary>
public static class Rebase
{
    public static async Task CopyAsync(Stream source, Stream destination, byte[] marker, byte[] replacement, CancellationToken cancellationToken)
    {
        const int Chunk = 64 * 1024;
        var buffer = new byte[Chunk + marker.Length];
        var held = 0;
        while (true)
        {
            var read = await source.ReadAsync(buffer.AsMemory(held, buffer.Length - held), cancellationToken).ConfigureAwait(false);
            var total = held + read;
            var position = 0;
            while (true)
            {
                var found = buffer.AsSpan(position, total - position).IndexOf(marker);
                if (found < 0)
                {
                    break;
                }
                await destination.WriteAsync(buffer.AsMemory(position, found), cancellationToken).ConfigureAwait(false);
                await destination.WriteAsync(replacement, cancellationToken).ConfigureAwait(false);
                position += found + marker.Length;
            }
            if (read == 0)
            {
                await destination.WriteAsync(buffer.AsMemory(position, total - position), cancellationToken).ConfigureAwait(false);
                return;
            }
            // Keep back what could be the start of a marker completed by the next read.
            var safeEnd = Math.Max(position, total - (marker.Length - 1));
            await destination.WriteAsync(buffer.AsMemory(position, safeEnd - position), cancellationToken).ConfigureAwait(false);
            held = total - safeEnd;
            Buffer.BlockCopy(buffer, safeEnd, buffer, 0, held);
        }
    }
}
