namespace SafeHaven.Web.Tests.Support;

/// <summary>Paths in the repository the tests run from (the tools under tests/tools, docs/screenshots).</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "SafeHaven.sln")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (SafeHaven.sln) above " + AppContext.BaseDirectory);
    }

    /// <summary>The npm tools of the web tests (oidc-provider, axe-core), installed by tests/run.sh.</summary>
    public static string OidcTools
    {
        get
        {
            var tools = Path("tests", "tools", "oidc");
            return Directory.Exists(System.IO.Path.Combine(tools, "node_modules", "oidc-provider"))
                ? tools
                : throw new InvalidOperationException($"Install the web tests' npm tools first: npm ci --prefix {tools}");
        }
    }
}
