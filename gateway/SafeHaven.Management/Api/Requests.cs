namespace SafeHaven.Management.Api;

/// <summary>Change the tier policy: every value is optional; <c>reset</c> returns settings to configuration.</summary>
public sealed record PolicyChangeRequest
{
    public int? Tier { get; init; }
    public int? MinimumAgeDays { get; init; }
    public int? MaximumLagDays { get; init; }
    public double? ModelThreshold { get; init; }
    public IReadOnlyList<string>? Reset { get; init; }
    public required string Reason { get; init; }
}

public sealed record AllowlistEntryRequest
{
    /// <summary>A package name, for PyPI optionally with <c>[extras]</c>.</summary>
    public required string Name { get; init; }
    public required string Reason { get; init; }
}

public sealed record DecisionRequest
{
    public required string Reason { get; init; }
}

public sealed record ProjectRequest
{
    public required string Name { get; init; }
    public required string Title { get; init; }
}

public sealed record MemberRequest
{
    public required string User { get; init; }
    public required string Role { get; init; }
}

public sealed record WorkPackageRequest
{
    public required string Name { get; init; }
    public required string Title { get; init; }
}

public sealed record ClassificationRequest
{
    public required int Tier { get; init; }
    public required string Reason { get; init; }

    /// <summary>The role classified in, when the caller holds more than one classifier role in the project.</summary>
    public string? Role { get; init; }

    /// <summary>
    /// Optional: the classification flowchart's answers that led to the tier ("yes"/"no" in the order asked, see
    /// <c>ClassificationFlowchart</c>); the tier must then be the one they reach. Stored and shown with the classification.
    /// </summary>
    public IReadOnlyList<string>? Answers { get; init; }
}

/// <summary>Appoint a user to the appliance-wide Referee college.</summary>
public sealed record CollegeRefereeRequest
{
    public required string User { get; init; }
}
