using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Threading.RateLimiting;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Api;

/// <summary>
/// ASP.NET Core's rate limiter in front of authentication: token requests per client id and per
/// address, and failed authentications (token endpoint and gRPC calls) per client id and per
/// address, with <see cref="RateLimitOptions"/>. A refusal is HTTP 429 with Retry-After for the token
/// endpoint, RESOURCE_EXHAUSTED for a gRPC call, and a warning in the log naming who and why.
/// </summary>
public static class RateLimits
{
    private const string TokenPath = "/connect/token";
    // A client-credentials form is a few hundred bytes; more is not a token request.
    private const int MaxTokenRequestBytes = 16 * 1024;

    public static IHostApplicationBuilder AddRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section)
            .Validate(o => o.TokenRequestsPerClient > 0, "RateLimits:TokenRequestsPerClient must be positive")
            .Validate(o => o.TokenRequestsPerAddress > 0, "RateLimits:TokenRequestsPerAddress must be positive")
            .Validate(o => o.FailedAuthenticationsPerClient > 0, "RateLimits:FailedAuthenticationsPerClient must be positive")
            .Validate(o => o.FailedAuthenticationsPerAddress > 0, "RateLimits:FailedAuthenticationsPerAddress must be positive")
            .Validate(o => o.Window > TimeSpan.Zero, "RateLimits:Window must be positive")
            .ValidateOnStart();
        builder.Services.AddSingleton<AuthenticationFailures>();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>, AuthenticationFailures, ILoggerFactory>((limiter, options, failures, logs) =>
        {
            var o = options.Value;
            var log = logs.CreateLogger(typeof(RateLimits).FullName!);
            limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                TokenRequests(ClientAtAddressKey, o.TokenRequestsPerClient, o.Window),
                TokenRequests(AddressKey, o.TokenRequestsPerAddress, o.Window),
                failures);
            limiter.OnRejected = (rejected, cancellationToken) => RefuseAsync(rejected.HttpContext, rejected.Lease, o, log, cancellationToken);
        });
        return builder;
    }

    /// <summary>Before authentication: reads a token request's form within bounds, counts failures as responses leave, and limits.</summary>
    public static IApplicationBuilder UseRateLimits(this IApplicationBuilder app)
    {
        var failures = app.ApplicationServices.GetRequiredService<AuthenticationFailures>();
        app.Use(async (context, next) =>
        {
            if (IsTokenRequest(context) && !await ReadTokenFormAsync(context))
            {
                return;
            }
            if (!IsTokenRequest(context))
            {
                await next(context);
                return;
            }
            // A token answer is a few hundred bytes: held here to read its OAuth error before it goes.
            var original = context.Response.Body;
            using var answer = new MemoryStream();
            context.Response.Body = answer;
            try
            {
                await next(context);
            }
            finally
            {
                context.Response.Body = original;
            }
            if (IsWrongCredentials(context.Response.StatusCode, answer.ToArray()))
            {
                failures.Record(context);
            }
            answer.Position = 0;
            await answer.CopyToAsync(original, context.RequestAborted);
        });
        return app.UseRateLimiter();
    }

    /// <summary>The client id a token request names (form field, or HTTP Basic as RFC 6749 section 2.3.1 allows), cut to 128 characters.</summary>
    internal static string? ClientId(HttpContext context)
    {
        if (!IsTokenRequest(context))
        {
            return null;
        }
        if (context.Features.Get<IFormFeature>()?.Form is { } form && form["client_id"].ToString() is { Length: > 0 } id)
        {
            return id.Length > 128 ? id[..128] : id;
        }
        if (AuthenticationHeaderValue.TryParse(context.Request.Headers.Authorization, out var header)
            && header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) && header.Parameter is { } parameter)
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(parameter));
                var name = Uri.UnescapeDataString(pair.Split(':', 2)[0]);
                return name.Length > 128 ? name[..128] : name;
            }
            catch (FormatException)
            {
                return null;
            }
        }
        return null;
    }

    internal static string AddressKey(HttpContext context) =>
        $"address:{context.Connection.RemoteIpAddress?.ToString() ?? "in-process"}";

    /// <summary>
    /// A client's count is kept per address it asks from: whoever sends wrong secrets naming a client
    /// (client ids are no secret) uses up that client's budget at their own address only, never the
    /// client's own.
    /// </summary>
    internal static string ClientAtAddressKey(HttpContext context) =>
        $"client:{ClientId(context) ?? ""}@{context.Connection.RemoteIpAddress?.ToString() ?? "in-process"}";

    private static bool IsTokenRequest(HttpContext context) =>
        HttpMethods.IsPost(context.Request.Method) && context.Request.Path.Equals(TokenPath, StringComparison.OrdinalIgnoreCase);

    private static bool IsGrpc(HttpContext context) =>
        context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true;

    private static PartitionedRateLimiter<HttpContext> TokenRequests(Func<HttpContext, string> key, int permits, TimeSpan window) =>
        PartitionedRateLimiter.Create<HttpContext, string>(context => IsTokenRequest(context)
            ? RateLimitPartition.GetFixedWindowLimiter(key(context), _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = window, QueueLimit = 0 })
            : RateLimitPartition.GetNoLimiter(""));

    // The form is read here, within small limits, so that the partition can name the client; OpenIddict then reads the same form.
    private static async Task<bool> ReadTokenFormAsync(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } body)
        {
            body.MaxRequestBodySize = MaxTokenRequestBytes;
        }
        if (!context.Request.HasFormContentType)
        {
            return true;
        }
        context.Features.Set<IFormFeature>(new FormFeature(context.Request, new FormOptions { ValueCountLimit = 32, KeyLengthLimit = 128, ValueLengthLimit = 4096 }));
        try
        {
            await context.Request.ReadFormAsync(context.RequestAborted);
            return true;
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsJsonAsync(new Dictionary<string, string>
            {
                ["error"] = "invalid_request",
                ["error_description"] = $"the token request form is too large: {e.Message}",
            }, context.RequestAborted);
            return false;
        }
    }

    // A failure is a client secret that did not hold (RFC 6749 section 5.2, invalid_client): what can
    // be guessed. A client asking for a scope it lacks is no guess; nor is a call with a bad access
    // token: tokens are sealed with Data Protection and cannot be guessed, and counting them let
    // anyone lock out every caller at an address with a stream of garbage.
    private static bool IsWrongCredentials(int status, byte[] body)
    {
        if (status is not (StatusCodes.Status400BadRequest or StatusCodes.Status401Unauthorized))
        {
            return false;
        }
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("error", out var error) && error.ValueEquals("invalid_client");
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private static async ValueTask RefuseAsync(HttpContext context, RateLimitLease lease, RateLimitOptions options, ILogger log, CancellationToken cancellationToken)
    {
        var reason = lease.TryGetMetadata(MetadataName.ReasonPhrase, out var phrase) ? phrase! : "too many token requests";
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : options.Window;
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        log.LogWarning("Refused {Method} {Path} from {Address} for client {ClientId}: {Reason} (RateLimits, window {Window})",
            context.Request.Method, context.Request.Path, context.Connection.RemoteIpAddress?.ToString() ?? "in-process", ClientId(context) ?? "(none)", reason, options.Window);
        var message = $"{reason} from this client or address; try again in {seconds} s";
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        if (IsGrpc(context))
        {
            // A trailers-only gRPC response: HTTP 200 with the status in the headers.
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = ((int)StatusCode.ResourceExhausted).ToString(CultureInfo.InvariantCulture);
            context.Response.Headers["grpc-message"] = Uri.EscapeDataString(message);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        await context.Response.WriteAsJsonAsync(new Dictionary<string, string> { ["error"] = "too_many_requests", ["error_description"] = message }, cancellationToken);
    }
}
