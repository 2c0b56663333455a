namespace SafeHaven.Airlock;

/// <summary>An airlock operation that conflicts with the current state (a path already taken, a sealed volume).</summary>
public sealed class AirlockConflictException(string message) : Exception(message);
