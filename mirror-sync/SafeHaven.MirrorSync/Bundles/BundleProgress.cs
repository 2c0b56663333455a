namespace SafeHaven.MirrorSync.Bundles;

/// <summary>What an export or import reports as it goes: a phase with its size, bytes as they pass, members as they finish.</summary>
public class BundleProgress : IProgress<long>
{
    public static readonly BundleProgress None = new();

    /// <summary>A new phase (checking what an interrupted run left, copying, verifying) over <paramref name="members"/> files of <paramref name="bytes"/> bytes.</summary>
    public virtual void Phase(string description, int members, long bytes)
    {
    }

    /// <summary>Bytes read or written within the phase.</summary>
    public virtual void Report(long value)
    {
    }

    /// <summary>A member finished: copied, or (<paramref name="skipped"/>) already there.</summary>
    public virtual void Member(BundleMember member, bool skipped)
    {
    }

    public virtual void Done(string summary)
    {
    }
}
