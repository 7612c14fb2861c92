import { useEffect, type ReactNode } from "react";

/** document.title and the visible title read "AOS <Feature>". */
export function usePageTitle(feature: string): string {
  const title = `AOS ${feature}`;
  useEffect(() => {
    document.title = title;
  }, [title]);
  return title;
}

export function Page({
  feature,
  description,
  actions,
  children,
}: {
  feature: string;
  description?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
}) {
  const title = usePageTitle(feature);
  return (
    <>
      <header className="page-head">
        <div>
          <h1>{title}</h1>
          {description ? <p>{description}</p> : null}
        </div>
        {actions ? <div className="row">{actions}</div> : null}
      </header>
      {children}
    </>
  );
}
