// A QR code drawn as SVG (uqr encodes; one path of dark modules, crisp at any size and in print).
import { useMemo } from "react";
import { encode } from "uqr";

/** The SVG path of a matrix's dark modules, one `h1v1h-1z` square each (a quiet zone included). */
export function modulesPath(data: readonly (readonly boolean[])[]): string {
  let path = "";
  data.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (dark) path += `M${x} ${y}h1v1h-1z`;
    });
  });
  return path;
}

export function QrCode({ value, label }: { value: string; label: string }) {
  const { size, path } = useMemo(() => {
    const qr = encode(value, { ecc: "M", border: 4 });
    return { size: qr.size, path: modulesPath(qr.data) };
  }, [value]);
  return (
    <svg
      className="qr-code"
      role="img"
      aria-label={label}
      viewBox={`0 0 ${size} ${size}`}
      shapeRendering="crispEdges"
      data-modules={size}
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
