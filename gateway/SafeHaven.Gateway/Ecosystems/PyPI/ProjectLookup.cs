// A PyPI project lookup is the shared mirror lookup over the project's tier view.
global using ProjectLookup = SafeHaven.Gateway.Ecosystems.MirrorLookup<SafeHaven.Gateway.Ecosystems.PyPI.PyPIProjectView>;
