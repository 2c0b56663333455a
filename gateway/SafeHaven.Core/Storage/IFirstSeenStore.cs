namespace SafeHaven.Core.Storage;

/// <summary>
/// The appliance's own conservative clock: when each upstream file (or version) was first seen. Used for a
/// quarantine when upstream publishes no date the appliance can trust. A time is recorded once and never moved:
/// asking again returns the first answer, however often upstream is re-read.
/// </summary>
public interface IFirstSeenStore
{
    /// <summary>
    /// The first-seen time of each key (an ecosystem's own file or version identity), recording
    /// <paramref name="now"/> for keys never seen before. Keys are compared ordinally.
    /// </summary>
    Task<IReadOnlyDictionary<string, DateTimeOffset>> GetOrRecordAsync(
        string ecosystem, IReadOnlyCollection<string> keys, DateTimeOffset now, CancellationToken cancellationToken);
}
