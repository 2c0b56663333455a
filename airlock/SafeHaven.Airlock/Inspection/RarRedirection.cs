using System.Reflection;
using SharpCompress.Common.Rar;

namespace SafeHaven.Airlock.Inspection;

/// <summary>
/// The kind of a rar 5 file-system redirection (1 Unix symlink, 2 Windows symlink, 3 junction, 4 hard link, 5 file
/// copy). SharpCompress 0.50.8 reads it (<c>FileHeader.RedirType</c>) but exposes only the target publicly, so it is
/// read here by reflection; when that fails (another SharpCompress version) the inspector judges the redirection both
/// ways, which can only block more. The kind matters: a symbolic link resolves from its own directory, a hard link or
/// a file copy from the archive root, so <c>a/b -> ../x</c> stays inside as the one and leaves as the other.
/// </summary>
internal static class RarRedirection
{
    private static readonly PropertyInfo? FileHeader = typeof(RarEntry).GetProperty("FileHeader", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);

    private static readonly PropertyInfo? RedirType = FileHeader?.PropertyType.GetProperty("RedirType", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);

    /// <summary>The redirection type, or null when it cannot be read or is not one the format defines.</summary>
    public static int? TypeOf(RarEntry entry)
    {
        try
        {
            return FileHeader?.GetValue(entry) is { } header && RedirType?.GetValue(header) is byte type && type is >= 1 and <= 5 ? type : null;
        }
        catch (TargetInvocationException)
        {
            return null;
        }
    }

    public static bool IsHardLink(int? type) => type is 4 or 5;
}
