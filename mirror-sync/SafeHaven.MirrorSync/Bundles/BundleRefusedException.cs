namespace SafeHaven.MirrorSync.Bundles;

/// <summary>
/// A bundle (or an export request) that is refused: the message says why, in the operator's terms. Nothing was made
/// visible: no snapshot was published and the current one is still current.
/// </summary>
public sealed class BundleRefusedException(string message, Exception? inner = null) : Exception(message, inner);
