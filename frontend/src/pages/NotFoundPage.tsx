import { Link } from "react-router-dom";

import { Page } from "../components/Page";
import { EmptyState } from "../components/States";

export default function NotFoundPage() {
  return (
    <Page feature="Not found">
      <div className="panel">
        <EmptyState title="There is no page here" icon="?">
          <Link to="/">Go to the Control Center</Link>
        </EmptyState>
      </div>
    </Page>
  );
}
