using System.Text.Json;
using System.Text.Json.Serialization;

namespace SafeHaven.Management.Api;

/// <summary>
/// The JSON rules every API of the appliance shares: requests are read strictly (unknown, duplicate or missing
/// required members, nulls where a value is required, comments, trailing commas and loose numbers are refused);
/// responses write enums as strings.
/// </summary>
public static class StrictJson
{
    public static readonly JsonSerializerOptions Input = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        AllowDuplicateProperties = false,
        AllowTrailingCommas = false,
        ReadCommentHandling = JsonCommentHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
        MaxDepth = 16,
    };

    public static readonly JsonSerializerOptions Output = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}
