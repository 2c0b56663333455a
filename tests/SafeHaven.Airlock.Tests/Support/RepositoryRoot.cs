namespace SafeHaven.Airlock.Tests.Support;

internal static class RepositoryRoot
{
    /// <summary>The checkout this test assembly was built from (the folder holding SafeHaven.sln).</summary>
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "SafeHaven.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No SafeHaven.sln above {AppContext.BaseDirectory}.");
    }
}
