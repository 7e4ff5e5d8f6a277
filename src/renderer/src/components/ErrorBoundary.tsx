import { Component, type ReactNode } from 'react';
import { messageOf } from '../format';

interface Props {
  children: ReactNode;
  /** Changing it (the route) clears a caught error, so leaving a broken view recovers. */
  resetKey: string;
}

interface State {
  error: unknown;
  resetKey: string;
}

/** A view that throws while rendering shows its message here instead of a blank window. */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null, resetKey: this.props.resetKey };

  static getDerivedStateFromError(error: unknown): Partial<State> {
    return { error };
  }

  static getDerivedStateFromProps(props: Props, state: State): Partial<State> | null {
    return props.resetKey !== state.resetKey ? { error: null, resetKey: props.resetKey } : null;
  }

  override render() {
    if (this.state.error === null) return this.props.children;
    return (
      <section className="panel" role="alert">
        <h2>This view could not be shown</h2>
        <p className="error">{messageOf(this.state.error)}</p>
        <button type="button" onClick={() => this.setState({ error: null })}>
          Try again
        </button>
      </section>
    );
  }
}
