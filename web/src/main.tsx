import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ApolloProvider } from "@apollo/client/react";
import { BrowserRouter } from "react-router";
import { createApolloClient } from "./apollo.js";
import { AppRoutes } from "./routes.js";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("missing #root");
const client = createApolloClient();
createRoot(root).render(
  <StrictMode>
    <ApolloProvider client={client}>
      <BrowserRouter>
        <AppRoutes />
      </BrowserRouter>
    </ApolloProvider>
  </StrictMode>,
);
