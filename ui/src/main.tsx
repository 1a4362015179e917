import { render } from "preact";

function App() {
  return <main>Herald</main>;
}

render(<App />, document.getElementById("app")!);
