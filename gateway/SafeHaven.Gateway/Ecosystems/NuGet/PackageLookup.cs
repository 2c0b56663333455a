// A NuGet package lookup is the shared mirror lookup over the package's tier view.
global using PackageLookup = SafeHaven.Gateway.Ecosystems.MirrorLookup<SafeHaven.Gateway.Ecosystems.NuGet.NuGetPackageView>;
