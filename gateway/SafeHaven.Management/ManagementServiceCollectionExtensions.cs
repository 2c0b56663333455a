using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.OpenApi;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Core.Tiers;
using SafeHaven.Management.Api;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Policy;
using SafeHaven.Management.Projects;
using SafeHaven.Management.Storage;

namespace SafeHaven.Management;

public static class ManagementServiceCollectionExtensions
{
    /// <summary>Problems with the <c>SafeHaven:Auth</c> section, in the operator's terms (configuration keys).</summary>
    public static IReadOnlyList<string> Validate(IConfiguration configuration)
    {
        var auth = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        var problems = new List<string>();
        if (auth.Jwt.Enabled)
        {
            if (string.IsNullOrWhiteSpace(auth.Jwt.JwksFile) == string.IsNullOrWhiteSpace(auth.Jwt.JwksUrl))
            {
                problems.Add("SafeHaven:Auth:Jwt: set exactly one of JwksFile and JwksUrl, the identity provider's signing keys");
            }
            if (!string.IsNullOrWhiteSpace(auth.Jwt.JwksFile) && !File.Exists(auth.Jwt.JwksFile))
            {
                problems.Add($"SafeHaven:Auth:Jwt:JwksFile: {Path.GetFullPath(auth.Jwt.JwksFile)} does not exist");
            }
            if (!string.IsNullOrWhiteSpace(auth.Jwt.JwksUrl) && (!Uri.TryCreate(auth.Jwt.JwksUrl, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http")))
            {
                problems.Add($"SafeHaven:Auth:Jwt:JwksUrl: '{auth.Jwt.JwksUrl}' is not an absolute http(s) URL");
            }
            if (string.IsNullOrWhiteSpace(auth.Jwt.Audience))
            {
                problems.Add("SafeHaven:Auth:Jwt:Audience: required with Issuer (a token meant for another service must not be accepted here)");
            }
        }
        if (configuration.GetValue("SafeHaven:Database:PollSeconds", 5) is < 1 or > 3600)
        {
            problems.Add("SafeHaven:Database:PollSeconds: 1 to 3600 (how often each replica checks for a policy change made elsewhere)");
        }
        if (auth.MaxRequestBodyBytes is < 1024 or > 16 * 1024 * 1024)
        {
            problems.Add("SafeHaven:Auth:MaxRequestBodyBytes: 1024 to 16777216");
        }
        problems.AddRange(ProjectOptions.Problems(configuration));
        return problems;
    }

    /// <summary>
    /// Registers the management stores (in the appliance's database, SQLite or PostgreSQL), authentication (API keys, identity-provider
    /// JWTs), authorisation (every <c>/api/</c> endpoint authenticated; mirrors anonymous) and the OpenAPI document.
    /// Call after <c>AddSafeHavenGateway</c>: the policy overlay it registers is read by the gateway's policy provider.
    /// </summary>
    public static IServiceCollection AddSafeHavenManagement(this IServiceCollection services, IConfiguration configuration, SafeHavenOptions options)
    {
        var auth = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.Section));
        services.AddSingleton(ProjectOptions.From(configuration));
        services.TryAddSingleton(_ => SafeHavenDatabase.Create(options));
        // The schema is brought up to date when the first store is needed, by one replica at a time.
        services.AddSingleton(sp => ManagementDatabase.OpenAsync(sp.GetRequiredService<SafeHavenDatabase>(), sp.GetService<TimeProvider>() ?? TimeProvider.System,
            CancellationToken.None).GetAwaiter().GetResult());
        services.AddSingleton<DatabasePolicyStore>();
        services.AddSingleton<IPolicyStore>(sp => sp.GetRequiredService<DatabasePolicyStore>());
        services.AddSingleton<IPolicyOverlaySource>(sp => sp.GetRequiredService<DatabasePolicyStore>());
        services.AddHostedService(sp => new PolicyChangeSignal(sp.GetRequiredService<ManagementDatabase>(), sp.GetRequiredService<TierPolicyProvider>(),
            TimeSpan.FromSeconds(Math.Clamp(options.Database.PollSeconds, 1, 3600)), sp.GetRequiredService<ILogger<PolicyChangeSignal>>()));
        services.AddSingleton<AllowlistEntries>();
        services.AddSingleton<IUserStore, DatabaseUserStore>();
        services.AddSingleton<IProjectStore, DatabaseProjectStore>();
        services.AddSingleton<ProjectActions>();
        services.AddSingleton<IAuditLog, DatabaseAuditLog>();
        services.AddSingleton<SafeHaven.Gateway.Artifacts.IUpstreamAuditLog, UpstreamAuditLog>();
        services.AddSingleton<ApiKeys>();
        services.AddSingleton<IdentityProviderCallers>();
        services.AddSingleton<AuthThrottle>();
        if (auth.Jwt.Enabled)
        {
            services.AddSingleton<IJwksSource>(sp => !string.IsNullOrWhiteSpace(auth.Jwt.JwksFile)
                ? new FileJwksSource(auth.Jwt.JwksFile)
                : new UrlJwksSource(new HttpClient { Timeout = TimeSpan.FromSeconds(10) }, new Uri(auth.Jwt.JwksUrl!),
                    TimeSpan.FromMinutes(Math.Max(1, auth.Jwt.JwksRefreshMinutes)), sp.GetService<TimeProvider>() ?? TimeProvider.System));
            services.AddSingleton(sp => new JwtValidator(auth.Jwt, sp.GetRequiredService<IJwksSource>(), sp.GetService<TimeProvider>() ?? TimeProvider.System));
        }

        services.AddAuthentication(SafeHavenAuthenticationHandler.SchemeName)
            .AddScheme<SafeHavenAuthenticationOptions, SafeHavenAuthenticationHandler>(SafeHavenAuthenticationHandler.SchemeName, _ => { });
        services.AddAuthorization(ManagementPolicies.Add);
        services.AddSingleton<IAuthorizationHandler, ApiAccessHandler>();
        services.AddProblemDetails();
        services.AddOpenApi("v1", openApi =>
        {
            openApi.ShouldInclude = d => d.RelativePath is { } path && path.StartsWith("api/", StringComparison.OrdinalIgnoreCase);
            openApi.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo { Title = "SafeHaven management API", Version = "v1" };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "An API key from 'safehaven users add' (shk_...) or a JWT from the identity provider.",
                };
                document.Security ??= [];
                document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] });
                return Task.CompletedTask;
            });
        });
        return services;
    }

    /// <summary>Maps the management endpoints under <c>/api/</c> and the OpenAPI document at <c>/openapi/v1.json</c>.</summary>
    public static IEndpointRouteBuilder MapSafeHavenManagement(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").RequireAuthorization().ProducesProblem(401).ProducesProblem(403).ProducesProblem(400).WithTags("management");
        AuditEndpoints.Map(api);
        PolicyEndpoints.Map(api);
        ProjectEndpoints.Map(api);
        app.MapOpenApi().AllowAnonymous();
        return app;
    }
}
