using Microsoft.AspNetCore.Http.HttpResults;

namespace IngestLite.Http;

/// <summary>The ProblemDetails every endpoint answers with: a bad input names its field, an unknown session its id.</summary>
public static class Problems
{
    /// <summary>Field-named 400, the shape every bad input gets.</summary>
    public static ValidationProblem Invalid(string field, string reason) =>
        TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { [field] = [reason] },
            detail: $"{field}: {reason}",
            title: "The request is not valid.");

    public static ProblemHttpResult UnknownSession(string sessionId) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown session.", detail: $"session_id: no session '{sessionId}'");
}
