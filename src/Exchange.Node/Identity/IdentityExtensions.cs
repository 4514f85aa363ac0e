using Exchange.Domain;
using Exchange.Node.Persistence;
using Exchange.Node.Settings;
using Microsoft.AspNetCore.Authorization;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Validation;
using OpenIddict.Validation.AspNetCore;

namespace Exchange.Node.Identity;

public static class IdentityExtensions
{
    public static IHostApplicationBuilder AddIdentity(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetOptions<NodeIdentityOptions>(NodeIdentityOptions.Section);
        // No validators on the options themselves: IOptionsMonitor validates again on every reload of
        // the settings file, and a throw there would keep the old clients (a removed one included)
        // without a word. The rules stop a start here, and on a reload ClientSeeder leaves out, and
        // logs, each client that breaks one while applying the rest.
        builder.Services.AddOptions<NodeIdentityOptions>().BindSection(NodeIdentityOptions.Section);
        var isDevelopment = builder.Environment.IsDevelopment();
        builder.Services.AddOptions<IdentityStartCheck>().ValidateOnStart();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<IdentityStartCheck>>(sp => new IdentityStartValidation(sp.GetRequiredService<IConfiguration>(), isDevelopment));

        builder.Services.AddOpenIddict()
            .AddCore(core => core.UseEntityFrameworkCore().UseDbContext<NodeDbContext>())
            .AddServer(server =>
            {
                server.SetTokenEndpointUris("connect/token");
                // Staff tools and scripts authenticate as themselves; there is no interactive login.
                server.AllowClientCredentialsFlow();
                server.RegisterScopes([.. Scopes.All]);
                server.SetAccessTokenLifetime(options.AccessTokenLifetime);
                if (!string.IsNullOrWhiteSpace(options.Issuer))
                {
                    server.SetIssuer(new Uri(options.Issuer));
                }
                // Access tokens are sealed with ASP.NET Core Data Protection, whose key ring lives in
                // the node's database: every replica of the node reads the tokens any other issued,
                // and a restart does not log everyone out.
                server.UseDataProtection();
                // OpenIddict insists on signing and encryption keys even when Data Protection seals
                // the tokens; these never leave the process and sign nothing we hand out.
                server.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
                var aspNetCore = server.UseAspNetCore().EnableTokenEndpointPassthrough();
                if (!options.RequireHttps)
                {
                    // Plain HTTP is accepted only when the operator says so (loopback, tests).
                    aspNetCore.DisableTransportSecurityRequirement();
                }
            })
            .AddValidation(validation =>
            {
                // The node validates the tokens it issued itself, with the same Data Protection keys.
                validation.UseLocalServer();
                // Every call looks up the token's entry in the database, so a token stops working when
                // its client is removed, disabled or loses a scope (ClientSeeder revokes its tokens),
                // not when it expires. The lookup is one indexed query per call.
                validation.EnableTokenEntryValidation();
                validation.UseDataProtection();
                validation.UseAspNetCore();
            });

        // Token lifetimes follow the node's clock, which tests can move.
        builder.Services.AddOptions<OpenIddictServerOptions>().Configure<TimeProvider>((o, time) => o.TimeProvider = time);
        builder.Services.AddOptions<OpenIddictValidationOptions>().Configure<TimeProvider>((o, time) => o.TimeProvider = time);
        builder.Services.AddOptions<OpenIddict.Core.OpenIddictCoreOptions>().Configure<TimeProvider>((o, time) => o.TimeProvider = time);

        builder.Services.AddAuthentication(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);
        builder.Services.AddAuthorization(authorization =>
        {
            foreach (var scope in Scopes.All)
            {
                authorization.AddPolicy(scope, policy => policy
                    .AddAuthenticationSchemes(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme)
                    .RequireAuthenticatedUser()
                    .AddRequirements(new ScopeRequirement(scope)));
            }
            authorization.AddPolicy(AnyScopeRequirement.NetworkRead, policy => policy
                .AddAuthenticationSchemes(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .AddRequirements(new AnyScopeRequirement([Scopes.FindingsRead, Scopes.AuditRead, Scopes.NetworkAdmin])));
        });
        builder.Services.AddSingleton<IAuthorizationHandler, ScopeRequirementHandler>();
        builder.Services.AddSingleton<IAuthorizationHandler, AnyScopeRequirementHandler>();
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, GrpcAuthorizationResultHandler>();
        builder.Services.AddSingleton<TokenRevocations>();
        builder.Services.AddSingleton<CurrentClientScopes>();
        builder.Services.AddSingleton<Microsoft.AspNetCore.Authentication.IClaimsTransformation>(sp => sp.GetRequiredService<CurrentClientScopes>());
        builder.Services.AddSingleton<ClientSeeder>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ClientSeeder>());
        builder.Services.AddHostedService<TokenPruner>();
        return builder;
    }

    public static void MapIdentity(this IEndpointRouteBuilder app) => app.MapTokenEndpoint();
}

/// <summary>The configured clients, validated once at start (see <see cref="ClientRules.StartProblems"/>).</summary>
public sealed class IdentityStartCheck;

internal sealed class IdentityStartValidation(IConfiguration configuration, bool isDevelopment) : Microsoft.Extensions.Options.IValidateOptions<IdentityStartCheck>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, IdentityStartCheck options) =>
        ClientRules.StartProblems(configuration.GetOptions<NodeIdentityOptions>(NodeIdentityOptions.Section), isDevelopment) is { Count: > 0 } problems
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail(problems)
            : Microsoft.Extensions.Options.ValidateOptionsResult.Success;
}

/// <summary>The caller's token must carry this scope.</summary>
public sealed record ScopeRequirement(string Scope) : IAuthorizationRequirement;

/// <summary>The caller's token must carry at least one of these scopes.</summary>
public sealed record AnyScopeRequirement(IReadOnlyList<string> Scopes) : IAuthorizationRequirement
{
    /// <summary>
    /// The policy for reading the network manifest: public facts that staff (findings:read), auditors
    /// (audit:read, to check signatures against it) and administrators all need.
    /// </summary>
    public const string NetworkRead = "network:read";
}

internal sealed class AnyScopeRequirementHandler : AuthorizationHandler<AnyScopeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AnyScopeRequirement requirement)
    {
        if (requirement.Scopes.Any(context.User.HasScope))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}

internal sealed class ScopeRequirementHandler : AuthorizationHandler<ScopeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        if (context.User.HasScope(requirement.Scope))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}
