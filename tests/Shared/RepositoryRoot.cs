namespace SafeHaven.Tests.Support;

/// <summary>
/// The checkout a test assembly was built from (the folder holding SafeHaven.sln): where the appliance's build output
/// and <c>tests/tools</c> are. One file, compiled into each test project that needs it.
/// </summary>
internal static class RepositoryRoot
{
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
