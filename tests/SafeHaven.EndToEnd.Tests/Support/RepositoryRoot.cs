namespace SafeHaven.EndToEnd.Tests.Support;

/// <summary>The checkout this test assembly was built from: where the appliance's build output and <c>tests/tools</c> are.</summary>
public static class RepositoryRoot
{
    /// <summary>The folder holding <c>SafeHaven.sln</c> above the test output.</summary>
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
        throw new InvalidOperationException("Cannot find the repository root (SafeHaven.sln) above " + AppContext.BaseDirectory);
    }
}
