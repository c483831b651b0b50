// Swagger UI over this server's OpenAPI document; a separate file so no inline script is needed.
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
