using Microsoft.AspNetCore.Mvc.ApplicationModels;

namespace SafeHaven.Web;

/// <summary>Page routes in lower case (<c>/audit</c>, <c>/account/signin</c>), as the API and the mirrors spell theirs.</summary>
internal sealed class LowercaseRoutes : IPageRouteModelConvention
{
    public void Apply(PageRouteModel model)
    {
        foreach (var selector in model.Selectors)
        {
            if (selector.AttributeRouteModel is { Template: { } template } route)
            {
                route.Template = template.ToLowerInvariant();
            }
        }
    }
}
