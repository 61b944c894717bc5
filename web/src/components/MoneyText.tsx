import { formatMoney, type Money } from "../lib/money.js";

export function MoneyText({ money }: { money: Money }) {
  return <span className="money">{formatMoney(money)}</span>;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function DateText({ iso }: { iso: string }) {
  return <time dateTime={iso}>{dateFormat.format(new Date(iso))}</time>;
}
